package org.diskhost.api.handover;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Exports a chain element's state when its chain is torn down to be rebuilt. The host calls it once, after the
 * chain has drained (no request is in flight) and before the chain is closed, while the element's bundle is still
 * there. After it returns, the element serves no more requests and is closed.
 */
@ConsumerType
@FunctionalInterface
public interface StateExporter {
    /** The state to hand over. A failure is logged and the successor starts without it. */
    HandoverState export();
}
