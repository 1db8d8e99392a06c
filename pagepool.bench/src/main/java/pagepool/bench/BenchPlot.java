package pagepool.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Turns what {@code ./bench udp}, {@code ./bench iotlb} and {@code ./bench rx} print into the PNG
 * charts of docs/benchmarks.md: {@code ./bench plot udp|iotlb|rx OUT.png FILE...} (several files:
 * their figures side by side, one per run).
 */
public final class BenchPlot {

    private BenchPlot() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: plot udp|xdp|iotlb|rx OUT.png FILE... (what ./bench udp, xdp, iotlb or rx"
                    + " printed)");
            System.exit(2);
        }
        List<Path> files = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            files.add(Path.of(args[i]));
        }
        CategoryChart chart = switch (args[0]) {
            case "udp" -> udp(files, "Real UDP over loopback: datagrams/s received and verified (median of the rounds)");
            case "xdp" -> udp(files, "Frames on a veth pair (BPF_PROG_RUN source): datagrams/s received and verified"
                    + " (median of the rounds)");
            case "iotlb" -> iotlb(files);
            case "rx" -> rx(files);
            default -> throw new IllegalArgumentException("chart: '" + args[0] + "' (expected: udp, xdp, iotlb or rx)");
        };
        BitmapEncoder.saveBitmap(chart, args[1], BitmapEncoder.BitmapFormat.PNG);
        System.out.println("wrote " + args[1]);
    }

    private static CategoryChart chart(String title, String y) {
        CategoryChart c = new CategoryChartBuilder().width(1100).height(640).title(title).yAxisTitle(y).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setXAxisLabelRotation(30);
        return c;
    }

    /** The medians block of ./bench udp: received datagrams/s per receiver, one series per size. */
    static CategoryChart udp(List<Path> files, String title) throws IOException {
        Map<String, Map<String, Double>> bySize = new LinkedHashMap<>();
        for (Path f : files) {
            boolean medians = false;
            for (String line : Files.readAllLines(f)) {
                if (line.startsWith("# median")) {
                    medians = true;
                } else if (medians && !line.isBlank()) {
                    String[] t = line.split("\t");
                    bySize.computeIfAbsent(t[0] + " B", k -> new LinkedHashMap<>()).put(t[1].replace("DatagramChannel ",
                            "").replace("epoll recvmmsg", "epoll").replace("queues", "q").replace("queue", "q").replace("threads",
                            "t").replace("thread", "t").replace(" moderation", ""), Double.parseDouble(t[2]) / 1e6);
                }
            }
        }
        CategoryChart c = chart(title, "million datagrams/s");
        bySize.forEach((size, r) -> c.addSeries(size, new ArrayList<>(r.keySet()), new ArrayList<>(r.values())));
        return c;
    }

    private static final Pattern IOTLB = Pattern.compile("^(\\S+)\\s+.*= (\\d+) misses per million packets");

    /** ./bench iotlb: IOTLB misses per million packets, per provider, one series per run. */
    static CategoryChart iotlb(List<Path> files) throws IOException {
        CategoryChart c = chart("Simulated IOTLB: misses per million packets", "misses per million packets");
        int run = 1;
        for (Path f : files) {
            Map<String, Double> m = new LinkedHashMap<>();
            for (String line : Files.readAllLines(f)) {
                Matcher x = IOTLB.matcher(line);
                if (x.find()) {
                    m.put(x.group(1), Double.parseDouble(x.group(2)));
                }
            }
            c.addSeries("run " + run++, new ArrayList<>(m.keySet()), new ArrayList<>(m.values()));
        }
        return c;
    }

    // Not anchored: Maven's colour codes may precede the first line.
    private static final Pattern COPY = Pattern.compile("plain MemorySegment.copy .*: (\\d+) MB/s");
    private static final Pattern FLOOR = Pattern.compile("floor: .*: (\\d+) packets/s");
    private static final Pattern SIM = Pattern.compile("sim RX, ([^:]+): (\\d+) packets/s");

    /** "verified and recycled in NAPI" → "NAPI"; "socket thread, offered 1075000 packets/s" → "socket @1.08 M". */
    private static String shortRx(String what) {
        Matcher offered = Pattern.compile("offered (\\d+)").matcher(what);
        if (offered.find()) {
            return String.format(java.util.Locale.ROOT, "socket @%.2f M", Long.parseLong(offered.group(1)) / 1e6);
        }
        return what.contains("NAPI") ? "sim, NAPI" : what.contains("socket") ? "sim, socket thread" : what;
    }

    /** ./bench rx: packets/s of the copy, the floor and the sim's paths, one series per run. */
    static CategoryChart rx(List<Path> files) throws IOException {
        CategoryChart c = chart("One queue's RX, 1,500-byte packets, against the bare data work",
                "million packets/s");
        int run = 1;
        for (Path f : files) {
            Map<String, Double> m = new LinkedHashMap<>();
            for (String line : Files.readAllLines(f)) {
                Matcher x;
                if ((x = COPY.matcher(line)).find()) {
                    m.put("plain copy", Double.parseDouble(x.group(1)) * 1e6 / 1500 / 1e6);
                } else if ((x = FLOOR.matcher(line)).find()) {
                    m.put("floor", Double.parseDouble(x.group(1)) / 1e6);
                } else if ((x = SIM.matcher(line)).find()) {
                    m.put(shortRx(x.group(1)), Double.parseDouble(x.group(2)) / 1e6);
                }
            }
            c.addSeries("run " + run++, new ArrayList<>(m.keySet()), new ArrayList<>(m.values()));
        }
        return c;
    }
}
