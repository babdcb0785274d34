package dev.jlens.analysis;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mann-Whitney p-values against scipy 1.17.1: the constants below are
 * {@code scipy.stats.mannwhitneyu(target, control, alternative="two-sided", method=m)} (statistic = U1, pvalue) for
 * exactly these inputs, computed with python3 when the test was written; {@link #liveComparisonWithScipy} repeats the
 * comparison on random samples when python3 with scipy is installed.
 */
class MannWhitneyTest {
    @TempDir Path tmp;

    private static void check(double[] t, double[] c, MannWhitney.Method method, double u1, double p, double relTol) {
        MannWhitney.Result r = MannWhitney.test(t, c);
        assertEquals(method, r.method());
        assertEquals(u1, r.u1(), 0, "U1");
        assertEquals(p, r.pValue(), relTol * p, "p-value");
    }

    @Test
    void exactPValuesEqualScipy() {
        check(new double[] {1.1, 2.3, 4.5, 5.0}, new double[] {0.2, 3.3, 0.7}, MannWhitney.Method.EXACT, 10.0, 0.22857142857142856, 1e-14);
        // perfect separation 5 vs 6: 2 / C(11, 5) = 2 / 462
        check(new double[] {5.5, 6.25, 7.0, 8.5, 9.75}, new double[] {0.5, 1.5, 2.25, 3.0, 4.125, 4.75}, MannWhitney.Method.EXACT,
                30.0, 0.004329004329004329, 1e-14);
        // 12 vs 10 without ties: scipy's "auto" would go asymptotic (both groups > 8), this is method="exact"
        check(new double[] {3.1, 0.4, 5.9, 2.6, 5.3, 5.8, 9.7, 9.3, 2.3, 8.4, 6.2, 6.4},
                new double[] {3.3, 8.3, 2.7, 9.5, 0.28, 8.8, 4.1, 9.71, 6.9, 3.99}, MannWhitney.Method.EXACT, 54.0, 0.7223426728070692, 1e-14);
        // U exactly at its mean: 2 P(U' >= 8) > 1, capped
        check(new double[] {1, 4, 5, 8}, new double[] {2, 3, 6, 7}, MannWhitney.Method.EXACT, 8.0, 1.0, 0);
    }

    @Test
    void tieCorrectedAsymptoticPValuesEqualScipy() {
        check(new double[] {0, 0, 1.5, 2.5, 2.5, 0, 3.0, 0, 1.5, 4.0, 0, 2.0}, new double[] {0, 0, 0, 1.5, 0, 0, 0.5, 0, 0, 2.5, 0},
                MannWhitney.Method.ASYMPTOTIC, 92.0, 0.08235990092601803, 1e-12);
        check(new double[] {1, 2, 2, 3, 5}, new double[] {0, 2, 1, 1}, MannWhitney.Method.ASYMPTOTIC, 17.0, 0.09934224785346528, 1e-12);
        // 40 vs 35 without ties: C(75, 35) is beyond a long, so asymptotic
        double[] t = new double[40], c = new double[35];
        for (int k = 1; k <= 40; k++) t[k - 1] = (k * 37) % 101 + 0.5;
        for (int k = 1; k <= 35; k++) c[k - 1] = (k * 53) % 97;
        check(t, c, MannWhitney.Method.ASYMPTOTIC, 803.0, 0.27635758211473005, 1e-12);
        for (int k = 0; k < 40; k++) t[k] += 40;
        check(t, c, MannWhitney.Method.ASYMPTOTIC, 1211.0, 5.9117125805020883e-08, 1e-12);
    }

    @Test
    void farTailOfASparseSeparatedFeatureEqualsScipy() {
        // 200 target prompts firing (distinct values), 200 silent controls: the planted France feature's situation
        double[] t = new double[200], zeros = new double[200];
        for (int k = 0; k < 200; k++) t[k] = 1.0 + 0.01 * k;
        check(t, zeros, MannWhitney.Method.ASYMPTOTIC, 40000.0, 2.359216871347216e-76, 1e-11);
        double[] tied = new double[200];
        Arrays.fill(tied, 2.0);
        check(tied, zeros, MannWhitney.Method.ASYMPTOTIC, 40000.0, 9.182598395744396e-89, 1e-11);
        // and that is the floor the test reports for 200 vs 200
        assertEquals(9.182598395744396e-89, new MannWhitney(200, 200).smallestPValue(), 1e-11 * 9.182598395744396e-89);
    }

    @Test
    void erfcEqualsScipyFromTheCentreToTheFarTail() {
        double[][] ref = {{0.0, 1.0}, {0.1, 0.8875370839817152}, {0.5, 0.4795001221869535}, {1.0, 0.15729920705028516},
                {1.4999, 0.033906748337704726}, {1.5, 0.03389485352468927}, {2.0, 0.004677734981047266},
                {3.0, 2.2090496998585445e-05}, {5.0, 1.5374597944280347e-12}, {10.0, 2.0884875837625446e-45},
                {15.0, 7.212994172451209e-100}, {20.0, 5.395865611607901e-176}, {26.0, 5.663192408856145e-296},
                {-0.7, 1.6778011938374182}, {-2.5, 1.999593047982555}};
        for (double[] r : ref) {
            assertEquals(r[1], MannWhitney.erfc(r[0]), 5e-15 * r[1], "erfc(" + r[0] + ")");
        }
        assertEquals(0.0, MannWhitney.erfc(40), 0);
        assertEquals(2.0, MannWhitney.erfc(-40), 0);
    }

    @Test
    void exactNullDistributionEqualsEnumerationOfAllLabelings() {
        // every way to pick which 4 of 9 ranks are targets: count U and compare with the Gaussian-binomial tail
        int n1 = 4, n2 = 5, n = 9;
        long[] count = new long[n1 * n2 + 1];
        for (int mask = 0; mask < 1 << n; mask++) {
            if (Integer.bitCount(mask) != n1) continue;
            int u = 0;
            for (int a = 0; a < n; a++) {
                if ((mask >> a & 1) == 0) continue;
                for (int b = 0; b < a; b++) if ((mask >> b & 1) == 0) u++;
            }
            count[u]++;
        }
        long[] tail = MannWhitney.tailCounts(n1, n2);
        long acc = 0;
        for (int u = n1 * n2; u >= 0; u--) {
            acc += count[u];
            assertEquals(acc, tail[u], "tail at U = " + u);
        }
        assertEquals(126, tail[0]);
    }

    @Test
    void smallestPValueIsTheMinimumOverEveryConfiguration() {
        // every assignment of values 0..5 to 3 targets and 3 controls covers every pattern of ranks and ties
        for (int[] sizes : new int[][] {{3, 3}, {2, 4}, {4, 2}}) {
            int n1 = sizes[0], n2 = sizes[1], n = n1 + n2, values = n;
            double min = 1;
            int[] digits = new int[n];
            for (long code = 0; code < Math.pow(values, n); code++) {
                long x = code;
                for (int k = 0; k < n; k++) { digits[k] = (int) (x % values); x /= values; }
                double[] t = new double[n1], c = new double[n2];
                for (int k = 0; k < n1; k++) t[k] = digits[k];
                for (int k = 0; k < n2; k++) c[k] = digits[n1 + k];
                min = Math.min(min, MannWhitney.test(t, c).pValue());
            }
            assertEquals(min, new MannWhitney(n1, n2).smallestPValue(), 1e-15, n1 + " vs " + n2);
        }
    }

    @Test
    void identicalGroupsGivePOneAndSymmetryHolds() {
        assertEquals(1.0, MannWhitney.test(new double[] {1, 2, 3, 4, 5}, new double[] {1, 2, 3, 4, 5}).pValue(), 0);
        assertEquals(1.0, MannWhitney.test(new double[] {3, 3}, new double[] {3, 3, 3}).pValue(), 0); // sigma = 0
        SplittableRandom r = new SplittableRandom(5);
        for (int trial = 0; trial < 20; trial++) {
            double[] t = new double[3 + r.nextInt(40)], c = new double[3 + r.nextInt(40)];
            for (int i = 0; i < t.length; i++) t[i] = r.nextInt(4) == 0 ? 0 : r.nextDouble();
            for (int i = 0; i < c.length; i++) c[i] = r.nextInt(4) == 0 ? 0 : r.nextDouble() * 0.8;
            MannWhitney.Result a = MannWhitney.test(t, c), b = MannWhitney.test(c, t);
            assertEquals(a.pValue(), b.pValue(), 1e-15 * a.pValue(), "two-sided p does not depend on which group is the target");
            assertEquals((double) t.length * c.length, a.u1() + b.u1(), 0);
            assertEquals(ContrastStats.auroc(t, c), a.u1() / ((double) t.length * c.length), 1e-15);
        }
        assertThrows(IllegalArgumentException.class, () -> MannWhitney.test(new double[] {Double.NaN}, new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> new MannWhitney(0, 3));
        assertFalse(new MannWhitney(200, 200).exactAvailable());
        assertTrue(new MannWhitney(20, 20).exactAvailable());
    }

    /** Random samples (with and without ties, exact and asymptotic sizes) against scipy itself, when it is installed. */
    @Test
    void liveComparisonWithScipy() throws Exception {
        Assumptions.assumeTrue(scipyAvailable(), "python3 with scipy is not installed: the constants above stand in for it");
        SplittableRandom r = new SplittableRandom(17);
        List<double[][]> cases = new ArrayList<>();
        for (int trial = 0; trial < 60; trial++) {
            int n1 = 1 + r.nextInt(trial < 30 ? 14 : 220), n2 = 1 + r.nextInt(trial < 30 ? 14 : 220);
            boolean sparse = trial % 2 == 0;
            double shift = r.nextDouble() * 2;
            double[] t = new double[n1], c = new double[n2];
            for (int i = 0; i < n1; i++) t[i] = sparse && r.nextInt(3) == 0 ? 0 : Math.rint(1e6 * (shift + r.nextDouble())) / 1e6;
            for (int i = 0; i < n2; i++) c[i] = sparse && r.nextInt(2) == 0 ? 0 : Math.rint(1e6 * r.nextDouble()) / 1e6;
            cases.add(new double[][] {t, c});
        }
        StringBuilder in = new StringBuilder();
        List<MannWhitney.Result> mine = new ArrayList<>();
        for (double[][] tc : cases) {
            MannWhitney.Result m = MannWhitney.test(tc[0], tc[1]);
            mine.add(m);
            in.append(m.method() == MannWhitney.Method.EXACT ? "exact" : "asymptotic").append(';')
                    .append(join(tc[0])).append(';').append(join(tc[1])).append('\n');
        }
        Path data = tmp.resolve("cases.txt"), script = tmp.resolve("mwu.py");
        Files.writeString(data, in.toString());
        Files.writeString(script, """
                import sys, scipy.stats as st
                for line in open(sys.argv[1]):
                    m, t, c = line.strip().split(';')
                    r = st.mannwhitneyu([float(v) for v in t.split(',')], [float(v) for v in c.split(',')],
                                        alternative='two-sided', method=m)
                    print(repr(float(r.statistic)), repr(float(r.pvalue)))
                """);
        List<String> out = python(script.toString(), data.toString());
        assertEquals(cases.size(), out.size(), String.join("\n", out));
        double worst = 0;
        int exact = 0;
        for (int i = 0; i < cases.size(); i++) {
            String[] f = out.get(i).trim().split(" ");
            double u1 = Double.parseDouble(f[0]), p = Double.parseDouble(f[1]);
            assertEquals(u1, mine.get(i).u1(), 0, "case " + i + " U1");
            double rel = p == 0 ? mine.get(i).pValue() : Math.abs(mine.get(i).pValue() - p) / p;
            worst = Math.max(worst, rel);
            assertTrue(rel < 1e-11, "case " + i + " (" + mine.get(i).method() + "): jlens " + mine.get(i).pValue() + ", scipy " + p);
            if (mine.get(i).method() == MannWhitney.Method.EXACT) exact++;
        }
        System.out.printf(Locale.ROOT, "Mann-Whitney vs live scipy: %d cases (%d exact), worst relative p difference %.2e%n",
                cases.size(), exact, worst);
        assertTrue(exact >= 5 && exact < cases.size(), "both methods exercised: " + exact + " exact");
    }

    private static String join(double[] v) {
        return Arrays.stream(v).mapToObj(d -> Double.toString(d)).collect(Collectors.joining(","));
    }

    private static boolean scipyAvailable() {
        try {
            return python("-c", "import scipy.stats").isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    private static List<String> python(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("python3"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("python3 failed: " + text);
        return text.isEmpty() ? List.of() : List.of(text.split("\n"));
    }
}
