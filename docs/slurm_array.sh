#!/bin/bash
# Grade a course on a Slurm cluster: one array task per shard, then one merge.
#
#   sbatch --export=ALL,SUBMISSIONS=/scratch/course/subs,SEED=20261202 docs/slurm_array.sh
#   # when every task has finished (or chain it: sbatch --dependency=afterok:<jobid> ...):
#   gradkata merge gradebook.sqlite shards/shard-*.sqlite
#   gradkata export --csv grades.csv --gradebook gradebook.sqlite
#
# Every shard must use the same SEED and the same installed gradkata: `gradkata merge`
# refuses gradebooks graded with mixed seeds or grader versions.
# A shard that fails can be re-run alone (sbatch --array=3 ...): grade-batch skips the
# students it has already recorded, and merge keeps each student's newest row.
#SBATCH --job-name=gradkata
#SBATCH --array=1-8            # shards 1..N; N below must match the array's size
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=02:00:00
#SBATCH --output=shards/%x-%A_%a.log
set -euo pipefail

N=${SLURM_ARRAY_TASK_COUNT:-8}
I=${SLURM_ARRAY_TASK_ID:?run me with sbatch --array=1-N}
: "${SUBMISSIONS:?set SUBMISSIONS to the folder with one entry per student}"
: "${SEED:?set SEED: every shard must grade with the same seed}"

mkdir -p shards
gradkata grade-batch "$SUBMISSIONS" --shard "$I/$N" --seed "$SEED" \
    --workers "${SLURM_CPUS_PER_TASK:-1}" --gradebook "shards/shard-$I.sqlite" --quiet
