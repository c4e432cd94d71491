"""Reference solutions. Never shipped to students (see `gradkata release`)."""
