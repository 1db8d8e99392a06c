package pagepool.runtime;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

/** The HTTP API as a script on this host talks to it: loopback, and this start's token on writes. */
final class WebClient {

    final HttpClient http = HttpClient.newHttpClient();
    final int port;
    private String token;

    WebClient(int port) {
        this.port = port;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    /** Reads the write token the runtime in {@code home} generated at its start (run/http.token). */
    String readToken(Path home) throws IOException {
        token = Files.readString(home.resolve("run/http.token")).strip();
        return token;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String form) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/x-www-form-urlencoded")
                .header("X-Pagepool-Token", token).POST(HttpRequest.BodyPublishers.ofString(form)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Whether the API answers yet (Jetty starts after the prompt). */
    boolean answers() {
        try {
            return get("/pagepool/api/queues").statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
