package pagepool.api.control;

import pagepool.api.binding.Change;

/**
 * A change with its place in the control plane's change log: ids grow by one from 1 with each
 * change of this start, so a client that knows the last id it saw asks for what came after, and
 * misses nothing the log still keeps.
 *
 * @param id its place in the log
 * @param change what changed
 */
public record ChangeEvent(long id, Change change) {
}
