"""The questionnaires: XLSForms (the source of truth coordinators edit), their build into XForms checked by ODK
Validate (`forms.build`) and their codebook (`forms.codebook`)."""
