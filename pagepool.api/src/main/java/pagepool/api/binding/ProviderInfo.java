package pagepool.api.binding;

import pagepool.api.ProviderFaults;

/**
 * A memory provider service.
 *
 * @param name provider name
 * @param readable whether the CPU can read its memory
 * @param isDefault whether it is the provider of unbound queues now
 * @param ranking its service ranking
 * @param pools pools it serves now, detached ones included
 * @param state whether queues may be put on it
 * @param faults what it threw, over all its pools
 * @param message why it is quarantined, or what else an operator should know; empty if nothing
 */
public record ProviderInfo(String name, boolean readable, boolean isDefault, int ranking, int pools, State state,
        ProviderFaults faults, String message) {

    public ProviderInfo {
        faults = faults == null ? ProviderFaults.NONE : faults;
        message = message == null ? "" : message;
    }

    public enum State {
        /** Serves the queues bound to it (and unbound ones if it is the default). */
        ACTIVE,
        /**
         * It faulted too often: no queue is put on it until it registers again or an operator
         * resets it ({@link PoolBindings#resetProvider}); its queues run on the default provider.
         */
        QUARANTINED
    }
}
