"""hms-factors under Spark: rdd.pipe runs one hms-factors per partition.

    CGO_ENABLED=0 go build -trimpath -o bin/hms-factors ./cmd/hms-factors
    spark-submit --files bin/hms-factors scripts/examples/factors-spark.py IN OUT

Every partition's lines go to hms-factors on stdin; its stdout lines are the
new RDD (NUMBER<TAB>DIVISORS here). An empty partition gives no output and
exit status 0; a partition with invalid tokens makes hms-factors exit 1,
which fails the task, unless --skip-invalid is given (the count still goes
to the executor's stderr).
"""

import sys

from pyspark import SparkContext, SparkFiles

sc = SparkContext(appName="hms-factors")
src, dst = sys.argv[1], sys.argv[2]
cmd = [SparkFiles.get("hms-factors"), "--format", "tsv", "--skip-invalid", "--workers", "1"]
pairs = sc.textFile(src).pipe(cmd).map(lambda line: line.split("\t", 1))
# Keep each number once, e.g. to count the primes.
distinct = pairs.reduceByKey(lambda a, b: a)
print("primes:", distinct.filter(lambda kv: kv[1] == "").count())
distinct.map(lambda kv: kv[0] + "\t" + kv[1]).saveAsTextFile(dst)
