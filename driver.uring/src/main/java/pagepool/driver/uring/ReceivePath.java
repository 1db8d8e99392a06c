package pagepool.driver.uring;

import pagepool.api.PagePool;
import pagepool.api.queue.QueueOperationException;

/**
 * How a UDP queue receives into its pages: through io_uring ({@link IoUringReceive}) or with
 * recvmmsg ({@link RecvmmsgReceive}). Each path owns its kind of {@link UringMem}; every method
 * but {@link #allocate} and {@link #fill} (the caller's thread, before the queue runs on the
 * memory) runs on the queue's thread, which {@link UringQueue} hands the kit's queue operations to.
 */
interface ReceivePath {

    /** On the queue's thread before its first receive: the kernel objects the path needs. */
    void setUp(int eventfd);

    /** New, empty memory for the pool's pages; any thread. */
    UringMem allocate(int queue, PagePool pool);

    /** Posts pages of the pool until the memory is full, on the caller's thread: nothing of the queue's is touched. */
    void fill(UringMem m) throws QueueOperationException;

    /** The kernel stops writing into {@code old}: what already arrived is delivered. */
    void stopping(UringMem old) throws QueueOperationException;

    void starting(UringMem m);

    /** Moves the receive to {@code m}; {@code old} drains until it is released. */
    void swapping(UringMem old, UringMem m);

    /**
     * The kernel lets go of memory the queue no longer runs on: no receive into it ends later.
     * Its pages stay posted; the queue frees the memory afterwards, on the caller's thread.
     */
    void letGo(UringMem m);

    /**
     * One round: receives what waits into {@code m} (null while stopped; {@code failed}: the
     * queue drops nothing but receives nothing either), refills, and when nothing waits sleeps
     * until a datagram or a wake comes, at most {@code waitNanos}.
     */
    void receive(UringMem m, boolean failed, long waitNanos);

    /** On the queue's thread after its last task: lets go of and frees what drains, closes the kernel objects. */
    void tearDown();
}
