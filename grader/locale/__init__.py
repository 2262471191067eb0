"""The message catalogs (gettext) of the languages the grader speaks."""
