package pagepool.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws the distribution of swap latencies that {@link SwapLatency} wrote ({@code --csv}): for
 * each time (x), the share of swaps slower than it (y), both on log scales, so the median and the
 * tail read off one curve (y = 50% at the median, 1% at p99).
 * Run with {@code ./bench swap-plot OUT.png LABEL=FILE.csv[,FILE.csv...] ...}: one series per label,
 * of all its files' swaps together.
 */
public final class SwapPlot {

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: swap-plot OUT.png LABEL=FILE.csv[,FILE.csv...] [LABEL=...]");
            System.exit(2);
        }
        XYChart chart = new XYChartBuilder().width(900).height(520)
                .title("Queue swap: from the start of the restart until the queue runs on its new memory")
                .xAxisTitle("latency (us)").yAxisTitle("swaps slower than that (%)").build();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            String label = eq > 0 ? args[i].substring(0, eq) : args[i];
            double[] us = swapTimes(eq > 0 ? args[i].substring(eq + 1) : args[i]);
            Arrays.sort(us);
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            // Every point of the tail, a sample of the body.
            for (int k = 0; k < us.length - 1; k += k < us.length - 2000 ? Math.max(1, us.length / 2000) : 1) {
                x.add(Math.max(1.0, us[k]));
                y.add(100.0 * (us.length - 1 - k) / us.length);
            }
            String name = String.format("%s: p50 %.0f us, p99 %.0f us, max %.0f us (%d swaps)", label,
                    us[us.length / 2], us[(int) Math.ceil(us.length * 0.99) - 1], us[us.length - 1], us.length);
            XYSeries s = chart.addSeries(name, x, y);
            s.setMarker(SeriesMarkers.NONE);
        }
        Path out = Path.of(args[0]);
        BitmapEncoder.saveBitmap(chart, out.toString(), BitmapEncoder.BitmapFormat.PNG);
        System.out.println("wrote " + out);
    }

    /** The swap_us column of each file, together. */
    private static double[] swapTimes(String files) throws IOException {
        List<Double> all = new ArrayList<>();
        for (String f : files.split(",")) {
            List<String> lines = Files.readAllLines(Path.of(f));
            for (int i = 1; i < lines.size(); i++) {
                all.add(Double.parseDouble(lines.get(i).split(",")[0]));
            }
        }
        double[] us = new double[all.size()];
        for (int i = 0; i < us.length; i++) {
            us[i] = all.get(i);
        }
        return us;
    }
}
