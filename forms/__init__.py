"""The questionnaires: XLSForms (the source of truth coordinators edit), their build into XForms checked by ODK
Validate (`forms.build`), their codebook (`forms.codebook`), and the compiled XForm read (the one reader: the
collection server reads a form's fields, types and choices here too) and filled as ODK Collect fills it
(`forms.xform`, with the ODK XPath subset pyxform writes in `forms.xpath`)."""
