package dev.jlens.spark;

import dev.jlens.atlas.AtlasSettings;
import dev.jlens.atlas.AtlasWriter;
import dev.jlens.atlas.FeatureStats;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;

/**
 * One SAE's atlas as two Parquet tables, written with Spark's own writer (one part file each):
 * <ul>
 *   <li>{@code features.parquet}: one row per fired feature - {@code feature} int, {@code fires} long,
 *       {@code tokens} long, {@code density} double, {@code max} float, {@code mean} float (the values of
 *       features.jsonl);</li>
 *   <li>{@code examples.parquet}: one row per example - {@code feature} int, {@code kind} string ("top" or
 *       "quantile"), {@code interval} int (the quantile interval, null for top), {@code rank} int (0-based, within
 *       the top list or the interval), {@code context} long, {@code position} int, {@code value} float. The token
 *       windows stay in features.jsonl.</li>
 * </ul>
 */
final class ParquetTables {
    static final StructType FEATURES = new StructType()
            .add("feature", DataTypes.IntegerType, false)
            .add("fires", DataTypes.LongType, false)
            .add("tokens", DataTypes.LongType, false)
            .add("density", DataTypes.DoubleType, false)
            .add("max", DataTypes.FloatType, false)
            .add("mean", DataTypes.FloatType, false);
    static final StructType EXAMPLES = new StructType()
            .add("feature", DataTypes.IntegerType, false)
            .add("kind", DataTypes.StringType, false)
            .add("interval", DataTypes.IntegerType, true)
            .add("rank", DataTypes.IntegerType, false)
            .add("context", DataTypes.LongType, false)
            .add("position", DataTypes.IntegerType, false)
            .add("value", DataTypes.FloatType, false);

    private ParquetTables() {}

    /** Writes {@code dir/features.parquet} and {@code dir/examples.parquet} ({@code dir} a Hadoop URI), replacing old ones. */
    static void write(SparkSession spark, String dir, FeatureStats st, AtlasSettings s) {
        List<Row> features = new ArrayList<>();
        List<Row> examples = new ArrayList<>();
        for (int f : st.firedFeatures()) {
            features.add(RowFactory.create(f, st.fires(f), st.tokens(), AtlasWriter.density(st, f), st.max(f), (float) st.mean(f)));
            List<FeatureStats.Example> top = st.top(f);
            for (int r = 0; r < top.size(); r++) examples.add(example(f, "top", null, r, top.get(r)));
            List<List<FeatureStats.Example>> q = st.quantiles(f, s.quantileIntervals(), s.quantileExamples());
            for (int j = 0; j < q.size(); j++) {
                for (int r = 0; r < q.get(j).size(); r++) examples.add(example(f, "quantile", j, r, q.get(j).get(r)));
            }
        }
        spark.sparkContext().setJobDescription("jlens atlas: " + dir + "/features.parquet");
        spark.createDataFrame(features, FEATURES).coalesce(1).write().mode(SaveMode.Overwrite).parquet(dir + "/features.parquet");
        spark.sparkContext().setJobDescription("jlens atlas: " + dir + "/examples.parquet");
        spark.createDataFrame(examples, EXAMPLES).coalesce(1).write().mode(SaveMode.Overwrite).parquet(dir + "/examples.parquet");
    }

    private static Row example(int f, String kind, Integer interval, int rank, FeatureStats.Example e) {
        return RowFactory.create(f, kind, interval, rank, e.context(), e.position(), e.value());
    }
}
