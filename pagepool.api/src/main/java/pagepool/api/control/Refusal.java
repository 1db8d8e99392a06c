package pagepool.api.control;

/**
 * What a client is told when the control plane refuses: one line naming the value and what was
 * expected ({@code {"error": "queue: 9 (expected: 0..3 on sim0)"}} over HTTP).
 *
 * @param error the refusal
 */
public record Refusal(String error) {
}
