"""Factor numbers on a Spark cluster with hms-factors through rdd.pipe.

    CGO_ENABLED=0 go build -trimpath -o bin/hms-factors ./cmd/hms-factors
    spark-submit --files bin/hms-factors scripts/spark/factors_pipe.py IN OUT

Each partition's lines go to one hms-factors process on its stdin (several
numbers per line are fine); its stdout lines are the partition's results, in
input order: "n<TAB>d1,d2,...". An empty partition gives an empty result.
Diagnostics (invalid tokens) go to the executor's stderr log; checkCode=True
fails the task if hms-factors exits non-zero (exit 1 = invalid tokens; add
--skip-invalid to the command to accept them, as the book did). --workers 1
because Spark already runs one task per core.
scripts/spark/emulate.sh runs the same pipe locally, partition by partition.
"""
import sys

from pyspark import SparkContext, SparkFiles

sc = SparkContext(appName="hms-factors")
src, dst = sys.argv[1], sys.argv[2]
cmd = [SparkFiles.get("hms-factors"), "--format", "tsv", "--workers", "1"]
pairs = sc.textFile(src).pipe(cmd, checkCode=True).map(lambda line: line.split("\t", 1))
# Keep each number once (the input may repeat some), e.g. to count the primes.
distinct = pairs.reduceByKey(lambda a, b: a)
print("primes:", distinct.filter(lambda kv: kv[1] == "").count())
distinct.map(lambda kv: kv[0] + "\t" + kv[1]).saveAsTextFile(dst)
