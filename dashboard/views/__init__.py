"""One module per dashboard page. st.navigation runs each file as a page script (its `render()` under
`__main__`), which also lets AppTest switch to it by path; importing a page module runs nothing."""
