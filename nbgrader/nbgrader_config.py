"""nbgrader configuration for the gradkata course (copy this folder as the course directory)."""

c = get_config()  # noqa: F821  (provided by nbgrader)
c.CourseDirectory.root = "."
# The first check of a notebook starts gradkata's grading server (torch, the sandbox): allow for it.
c.ExecutePreprocessor.timeout = 300
c.Execute.timeout = 300
