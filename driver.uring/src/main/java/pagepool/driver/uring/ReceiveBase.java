package pagepool.driver.uring;

import java.lang.foreign.Arena;

import pagepool.api.QueueId;
import pagepool.kit.driver.QueueCounters;

/**
 * What both receive paths have of their queue: its socket, ring size, counters and delivery, and
 * its thread's arena and system calls.
 */
abstract class ReceiveBase implements ReceivePath {

    final QueueId id;
    final int socket;
    final int ringSize;
    final QueueCounters counters;
    final Delivery delivery;
    /** The queue thread's arena and system calls (confined to that thread). */
    final Arena arena;
    final Sys sys;

    ReceiveBase(UringQueue queue, int socket, UringSettings settings, Arena arena, Sys sys, Delivery delivery) {
        this.id = queue.id();
        this.counters = queue.counters();
        this.socket = socket;
        this.ringSize = settings.ringSize();
        this.arena = arena;
        this.sys = sys;
        this.delivery = delivery;
    }
}
