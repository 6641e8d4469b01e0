// spark-shell --files bin/hms-factors, then:
sc.textFile("hdfs:///numbers").pipe(Seq(org.apache.spark.SparkFiles.get("hms-factors"), "--format", "tsv")).saveAsTextFile("hdfs:///factors")
