package pagepool.control;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import pagepool.api.QueueId;

/**
 * The one JSON mapping of the control plane's records, by Jackson: record components in
 * kebab-case ({@code inflightMem} is {@code inflight-mem}, as the kernel's netdev YNL spec names
 * it), instants as ISO-8601 strings, a queue as {@code "sim0/1"}, map keys as given.
 *
 * <p>Only this class names Jackson, and nothing loads it before the first JSON answer (or the
 * warm-up a few seconds after start): OSGi bundles' classes are not in the JVM's start-up cache,
 * and loading Jackson's costs ~0.2 s that start-up would otherwise pay.
 */
final class WireJson {

    /** The mapping: immutable and thread-safe, built when this class is first used. */
    private static final ObjectWriter WRITER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE).addModule(new JavaTimeModule())
            .addModule(new SimpleModule("pagepool").addSerializer(new QueueIdSerializer()))
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).build().writer();

    private WireJson() {
    }

    private static final class QueueIdSerializer extends StdSerializer<QueueId> {
        private static final long serialVersionUID = 1L;

        QueueIdSerializer() {
            super(QueueId.class);
        }

        @Override
        public void serialize(QueueId q, JsonGenerator g, SerializerProvider p) throws IOException {
            g.writeString(q.toString());
        }
    }

    static String write(Object value) {
        if (value != null && !value.getClass().getPackageName().startsWith("pagepool.api")
                && !(value instanceof java.util.Collection<?>)) {
            throw new IllegalArgumentException("value: a " + value.getClass().getName() + " (expected: a record of"
                    + " pagepool.api or a list of them)");
        }
        try {
            return WRITER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("value: " + value + " has no JSON (" + e.getOriginalMessage() + ")", e);
        }
    }
}
