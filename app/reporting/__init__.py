"""Reports for the regional operator: the monthly report the work order asks for and the
yearly indicators of the annual report, with their renderings (HTML with charts, PDF,
XLSX, CSV), the `flask report` commands and the monthly e-mail."""
