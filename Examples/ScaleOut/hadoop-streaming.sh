#!/usr/bin/env bash
# Hadoop streaming, map-only: each map task pipes its input split (whole lines of JSON Lines files)
# through `verdict classify --jsonl`; with -numReduceTasks 0 the mappers' lines are the job output.
# usage: Examples/ScaleOut/hadoop-streaming.sh HDFS_INPUT HDFS_OUTPUT [BUNDLE.tar.gz]
#   BUNDLE (default verdict-bundle.tar.gz): the binary (`make install` builds one that needs no Swift
#   on the nodes) and a model folder, unpacked as ./vd in every task's working directory:
#     tar czf verdict-bundle.tar.gz -C /usr/local/bin verdict -C /path/to/models model
#   env: HADOOP_STREAMING_JAR (default: $HADOOP_HOME/share/hadoop/tools/lib/hadoop-streaming-*.jar),
#        MAPPER (default below; add e.g. --dtype int8 --batch-size 32),
#        THREADS (VERDICT_NUM_THREADS of each map task: its vcores, default 1; set
#        mapreduce.map.cpu.vcores to match).
# Records carry their own "id": part files are in split order, not in input order.
# stream.map.output=keyonlytext (Hadoop >= 2.3) writes the lines as they are; without it each line
# ends with a tab, which JSON parsers skip as whitespace. Larger splits = fewer model loads:
# -D mapreduce.input.fileinputformat.split.minsize=BYTES.
set -euo pipefail
in=$1 out=$2 bundle=${3:-verdict-bundle.tar.gz}
jar=${HADOOP_STREAMING_JAR:-$(ls "$HADOOP_HOME"/share/hadoop/tools/lib/hadoop-streaming-*.jar)}
MAPPER=${MAPPER:-"vd/verdict classify --jsonl --model vd/model"}
hadoop jar "$jar" \
  -D mapreduce.job.name=verdict-classify \
  -D stream.map.output=keyonlytext \
  -D mapreduce.map.cpu.vcores="${THREADS:-1}" \
  -archives "$bundle#vd" \
  -input "$in" -output "$out" \
  -mapper "$MAPPER" \
  -cmdenv VERDICT_NUM_THREADS="${THREADS:-1}" \
  -numReduceTasks 0
