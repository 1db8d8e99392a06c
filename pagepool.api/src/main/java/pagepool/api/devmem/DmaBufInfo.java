package pagepool.api.devmem;

/**
 * A device-memory buffer.
 *
 * @param id buffer id
 * @param size bytes
 * @param owner the bundle that created it
 * @param binding the binding using it, or 0
 */
public record DmaBufInfo(int id, long size, String owner, long binding) {
}
