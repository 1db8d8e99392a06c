package pagepool.api.control;

import pagepool.api.QueueId;

/**
 * Pages of a queue's pool held outside it (netdevsim's {@code pp_hold}).
 *
 * @param queue the queue
 * @param held pages held now
 */
public record HeldPages(QueueId queue, int held) {
}
