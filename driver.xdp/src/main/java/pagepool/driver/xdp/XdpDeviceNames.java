package pagepool.driver.xdp;

import org.osgi.service.component.annotations.Component;

import pagepool.kit.driver.DeviceNames;

/** The device names this bundle's configurations have taken (one set for all its devices). */
@Component(service = XdpDeviceNames.class)
public final class XdpDeviceNames extends DeviceNames {
}
