package pagepool.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

/**
 * The HTTP API against the schema it publishes ({@code /pagepool/api/openapi.json}): every
 * listing, every operation's answer, a refusal and an event of the stream validate against
 * their schema, which allows no field it does not name and names none that is missing. The
 * shell's {@code --json} is the same text as the API's answer: one mapping.
 */
class ApiSchemaIT {

    @TempDir
    Path tmp;

    private final ObjectMapper mapper = new ObjectMapper();
    private WebClient web;
    private JsonNode openapi;



    /** Validates {@code json} against the schema the API document gives {@code path}'s answer with {@code status}. */
    private void valid(String method, String path, int status, String json) throws Exception {
        JsonNode op = openapi.path("paths").path(path).path(method);
        assertTrue(!op.isMissingNode(), method + " " + path + " is in the schema");
        JsonNode response = op.path("responses").path(String.valueOf(status));
        if (response.has("$ref")) {
            response = openapi.at(response.get("$ref").asText().substring(1));
        }
        validAgainst(response.path("content").path("application/json").path("schema"), json, method + " " + path);
    }

    private void validAgainst(JsonNode schemaPart, String json, String what) throws Exception {
        assertEquals(List.of(), errors(schemaPart, json, what), what + ": " + json);
    }

    private List<String> errors(JsonNode schemaPart, String json, String what) throws Exception {
        assertTrue(!schemaPart.isMissingNode(), what + " has a schema");
        // The whole document as root, so #/components/schemas/... resolve; its other keys are not keywords.
        ObjectNode root = openapi.deepCopy();
        root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        root.set("$ref", schemaPart.has("$ref") ? schemaPart.get("$ref") : null);
        if (!schemaPart.has("$ref")) {
            root.remove("$ref");
            root.setAll((ObjectNode) schemaPart.deepCopy());
        }
        Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(root);
        List<Error> errors = schema.validate(mapper.readTree(json));
        return errors.stream().map(Error::toString).toList();
    }

    @Test
    void everyAnswerMatchesThePublishedSchema() throws Exception {
        int port = RunningRuntime.freePort();
        web = new WebClient(port);
        HttpClient http = web.http;
        try (RunningRuntime rt = RunningRuntime.withWeb(tmp.resolve("runtime"), port)) {
            rt.installExtra("provider.hugepage");
            rt.installExtra("provider.devmem");
            rt.await("the web answers", web::answers);
            rt.await("hugepage and devmem up", () -> rt.text("pp:providers --json").contains("\"hugepage\"")
                    && rt.text("pp:dmabufs --json").startsWith("{"));
            web.readToken(rt.home);
            HttpResponse<String> doc = web.get("/pagepool/api/openapi.json");
            assertEquals(200, doc.statusCode());
            openapi = mapper.readTree(doc.body());
            // The check can fail: a field missing, one too many, a wrong type.
            JsonNode queue = openapi.at("/components/schemas/Queue");
            String good = web.get("/pagepool/api/queues").body();
            assertEquals(List.of(), errors(queue, mapper.readTree(good).get(0).toString(), "a queue"));
            assertEquals(1, errors(queue, good.substring(1, good.indexOf('}') + 1).replace(",\"restarts\":0", ""),
                    "a queue without restarts").size());
            assertEquals(1, errors(queue, good.substring(1, good.indexOf('}')) + ",\"extra\":1}", "one field more")
                    .size());
            assertEquals(1, errors(queue, good.substring(1, good.indexOf('}') + 1).replace("\"state\":\"OK\"",
                    "\"state\":\"SIDEWAYS\""), "a state not in the enum").size());
            rt.run("pp:dmabuf_create 1M");

            // A change, read off the stream while a bind happens.
            HttpRequest stream = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/pagepool/api/changes")).build();
            HttpResponse<java.io.InputStream> events = http.send(stream, HttpResponse.BodyHandlers.ofInputStream());
            HttpResponse<String> bound = web.post("/pagepool/api/bind", "device=sim0&queues=1&provider=hugepage");
            assertEquals(200, bound.statusCode(), bound.body());
            valid("post", "/pagepool/api/bind", 200, bound.body());
            try (BufferedReader r = new BufferedReader(new InputStreamReader(events.body(), StandardCharsets.UTF_8))) {
                String data = Stream.generate(() -> {
                    try {
                        return r.readLine();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).filter(l -> l == null || l.startsWith("data: ")).findFirst().orElseThrow();
                validAgainst(openapi.at("/components/schemas/Change"), data.substring("data: ".length()), "an event");
            }
            // A client that reconnects with the last id it saw gets what came after, in order.
            JsonNode log = mapper.readTree(web.get("/pagepool/api/change-log").body());
            assertTrue(log.size() >= 3, "the bind's changes are in the log: " + log);
            List<Long> ids = new java.util.ArrayList<>();
            log.forEach(e -> ids.add(e.get("id").asLong()));
            assertEquals(java.util.stream.LongStream.rangeClosed(1, ids.size()).boxed().toList(), ids, "ids from 1, by one");
            HttpResponse<java.io.InputStream> resumed = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + port + "/pagepool/api/changes")).header("Last-Event-ID", "1").build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader r = new BufferedReader(new InputStreamReader(resumed.body(), StandardCharsets.UTF_8))) {
                List<String> replayed = new java.util.ArrayList<>();
                while (replayed.size() < ids.size() - 1) {
                    String line = r.readLine();
                    assertTrue(line != null, "the stream ended after " + replayed);
                    if (line.startsWith("id: ")) {
                        replayed.add(line.substring(4));
                    }
                }
                assertEquals(ids.subList(1, ids.size()).stream().map(String::valueOf).toList(), replayed,
                        "replayed after id 1, in order, none twice");
            }

            for (String listing : List.of("queues", "pools", "providers", "bindings", "devices", "problems", "devstats",
                    "dmabufs", "restarts", "history", "change-log")) {
                HttpResponse<String> r = web.get("/pagepool/api/" + listing);
                assertEquals(200, r.statusCode(), listing + ": " + r.body());
                valid("get", "/pagepool/api/" + listing, 200, r.body());
            }
            // One mapping: the shell prints the API's text (a listing that does not move while read twice).
            assertEquals(rt.text("pp:bindings --json"), web.get("/pagepool/api/bindings").body());
            assertEquals(rt.text("pp:providers --json"), web.get("/pagepool/api/providers").body());

            HttpResponse<String> held = web.post("/pagepool/api/page-hold", "device=sim0&queue=2&hold=on");
            assertEquals(200, held.statusCode(), held.body());
            valid("post", "/pagepool/api/page-hold", 200, held.body());
            assertEquals("{\"queue\":\"sim0/2\",\"held\":1}", held.body());
            valid("post", "/pagepool/api/page-hold", 200, web.post("/pagepool/api/page-hold",
                    "device=sim0&queue=2&hold=off").body());
            valid("post", "/pagepool/api/queue-reset", 200, web.post("/pagepool/api/queue-reset", "device=sim0&queue=3")
                    .body());
            valid("post", "/pagepool/api/provider-reset", 200, web.post("/pagepool/api/provider-reset", "provider=heap")
                    .body());
            HttpResponse<String> down = web.post("/pagepool/api/link", "device=sim0&state=down");
            valid("post", "/pagepool/api/link", 200, down.body());
            assertTrue(down.body().contains("\"up\":false"), down.body());
            valid("post", "/pagepool/api/link", 200, web.post("/pagepool/api/link", "device=sim0&state=up").body());
            valid("post", "/pagepool/api/unbind", 200, web.post("/pagepool/api/unbind", "device=sim0&queues=1").body());

            // Refusals: the control plane's words, in the schema's shape, state unchanged.
            String before = web.get("/pagepool/api/bindings").body();
            for (String[] bad : new String[][] {{"device=sim0&queues=9&provider=heap", "queue: 9 (expected: 0..3 on sim0)"},
                {"device=sim0&queues=1&provider=nosuch", "provider: 'nosuch' is not present"},
                {"device=sim0&queues=1", "provider: missing (expected: a value; fields: [device, provider, queues])"},
                {"device=sim0&queues=1&provider=heap&extra=1", "field: 'extra' (expected: only [device, provider, queues])"},
                {"device=sim0&device=sim1&queues=1&provider=heap", "device: 2 values (expected: one)"}}) {
                HttpResponse<String> r = web.post("/pagepool/api/bind", bad[0]);
                assertEquals(400, r.statusCode(), r.body());
                valid("post", "/pagepool/api/bind", 400, r.body());
                assertTrue(r.body().contains(bad[1]), r.body() + " (expected to contain: " + bad[1] + ")");
            }
            assertEquals(before, web.get("/pagepool/api/bindings").body(), "nothing bound by a refusal");
            HttpResponse<String> dmabufs = web.get("/pagepool/api/devstats?device=eth9");
            assertEquals(400, dmabufs.statusCode());
            valid("get", "/pagepool/api/devstats", 400, dmabufs.body());
        }
    }
}
