package pagepool.api.queue;

import org.osgi.annotation.versioning.ConsumerType;

import pagepool.api.PagePool;

/** The memory of one RX queue as its driver allocated it: opaque to the engine but for its pool. */
@ConsumerType
public interface QueueMemory {

    /** The queue the memory was allocated for. */
    int queue();

    /** The pool payload buffers come from. */
    PagePool pool();
}
