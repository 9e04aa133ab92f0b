"""autograder: the course's thin layer over nbgrader.

Commands (``python -m autograder COMMAND``; ``cli`` parses them and calls the module named):

    release   solutions/ -> notebooks/ with nbgrader, checked for leaks       release
    collect   an LMS zip or a folder -> <workdir>/submitted/<student>/<week>/  collect
    grade     autograde every submission, sandboxed, several at once          grading
    feedback  an HTML page per graded notebook, hidden code left out          feedback
    export    the gradebook -> grades.csv, per exercise, with the notes;      results, lms
              or Canvas's / Moodle's grade-import file
    report    per-exercise statistics, as a table and a PNG plot;             results
              --similar: pairs of students with near-identical answers        similar
    deadlines the due dates, extensions and late policy configured            late
    validate  a student's self-check of the visible tests                     validate

and ``python -m autograder.sandbox install | check``: set up or test the kernels' sandbox.

Which file turns a submission into a CSV row: ``grading.py`` grades it into the gradebook (its
docstring tells every step and the module that does it) and ``results.py`` makes the row.
In short: ``collect`` puts the submission in ``submitted/``; ``grading`` prepares it and, in a
worker process, has nbgrader autograde it with ``preprocessors.SafeExecute`` in place of
nbgrader's executor: the student's cells run in a ``kernel`` inside the ``sandbox``, each test
cell runs in the grader (``trusted``), calling the student's functions through the ``agent``
with plain data (``codec``); nbgrader writes the scores to the gradebook; ``results`` turns the
gradebook and the ``notes`` into one row per student and week.

Modules, one line each: what it owns.

    __main__       ``python -m autograder``: runs ``cli.main``
    cli            argument parsing; one thin ``cmd_*`` per command
    config         nbgrader's configuration for the course: layout, stubs, our steps in its
                   pipelines, and the time limits (CELL_TIMEOUT, BUDGET)
    course         ``Course``: a course directory and its working directory, with nbgrader's API
    release        regenerating a week's notebooks/ and the leak check
    markers        the secret-region markers (solution, hidden tests, mark scheme) and their rules
    collect        LMS downloads -> submitted/; notebook names normalised
    grading        the ``grade`` command: prepare, gradebook, worker processes, summary
    cluster        ``grade --cluster``: the same grading on Dask workers, recorded here alone
    notes          the grader's notes per student and week (<workdir>/notes/)
    honesty        notes on copies of nblib's reference answers and on identical submissions
    preprocessors  nbgrader steps: flags from the gradebook, SafeExecute, stderr, hidden code
    kernel         the student's kernel from the grader's side: run a cell, or calls on the
                   agent's line (a socket of the grader's own), in time; a spare per worker
    sandbox        bubblewrap box for the kernel (``python -m autograder.sandbox``)
    forkserver     kernels forked from a warm process that imported their libraries once,
                   each building the sandbox's box itself
    agent          the grader's hands inside the student's kernel: serves one test cell's calls
    trusted        test cells run in the grader, on the student's answers
    codec          plain data (and references) between grader and kernel, as JSON
    inert          student content made safe for a browser (feedback, formgrader)
    feedback       the ``feedback`` command
    results        gradebook -> rows, CSV, statistics and plot (``export``, ``report``)
    lms            the LMS's ids kept by ``collect``; Canvas's and Moodle's import files
    late           due dates, extensions, the late policy (<workdir>/deadlines.toml)
    latesteps      the late policy's nbgrader pieces: the late-submission plugin, a feedback step
    similar        ``report --similar``: answer cells compared pairwise, an HTML page
    validate       the ``validate`` command
"""

import sys

# nbformat validates notebooks with jsonschema, which loads the package rfc3987_syntax when it is
# installed (jupyter_events pulls it in) to check "iri" strings; building its grammar costs about
# 0.9 s in every process that imports nbformat. No notebook schema has an "iri", so the
# grader's processes (the command and each worker) go without it.
sys.modules.setdefault("rfc3987_syntax", None)

