"""Collection: receiving submissions (OpenRosa), volunteer accounts, the durable store, importers.

- `store.Store`: forms and their versions, submissions (raw XML kept verbatim), review states, the analysis frame
  (`submissions_frame`), `status`; `frame.LiveFrame` (the same frame kept up to date by reading only what
  changed, saved for restarts); `database` (where and how it is stored, migrations), `tables` (schema),
  `group_commit` (SQLite write batching);
- `submission`: safe parsing of a submission's XML; `openrosa`: the OpenRosa routes (token URLs and Digest);
  `volunteers`: accounts, tokens, ODK Collect QR codes; `publish`: forms → store; `asgi`: the ASGI app and routes;
- `workers`: the OpenRosa worker processes that own the app's port and pass the dashboard on to Streamlit;
  `backup`: `sdg16 backup` / `sdg16 restore` (SQLite online backup, pg_dump);
- `importers`: KoboToolbox and ODK Central exports and APIs;
- a form's identity, fields, types and choices are read by `forms.xform` (one reader for server and form filler);
- `webform` (the web-form developer's): Enketo pages beside the OpenRosa routes, the built bundle shipped in
  `webform_dist/`; `enketo_transform`: XForm → Enketo's form and model on the server (no XSLT in browsers).
"""
