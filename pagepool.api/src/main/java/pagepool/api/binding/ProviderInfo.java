package pagepool.api.binding;

/**
 * A memory provider service.
 *
 * @param name provider name
 * @param readable whether the CPU can read its memory
 * @param isDefault whether it is the provider of unbound queues now
 * @param ranking its service ranking
 * @param pools pools it serves now, detached ones included
 */
public record ProviderInfo(String name, boolean readable, boolean isDefault, int ranking, int pools) {
}
