"""nbgrader configuration for the gradkata course (copy this folder as the course directory)."""

c = get_config()  # noqa: F821  (provided by nbgrader)
c.CourseDirectory.root = "."
# The first check of a notebook starts gradkata's grading server (torch, the sandbox): allow for it.
c.ExecutePreprocessor.timeout = 300
c.Execute.timeout = 300

# The points come from gradkata grading the notebook's source in nbgrader's own process, never from the
# student's kernel (which can rebind `autograde` or the grading client): gradkata.notebooks.nbgrader_scores.
from gradkata.notebooks.nbgrader_scores import use_gradkata_scores  # noqa: E402

# Tier weights (gradkata.tiers): gradkata.toml in this folder, or $GRADKATA_CONFIG, or
# use_gradkata_scores(c, config_path="course.toml"); without one, the default weights.
use_gradkata_scores(c)
