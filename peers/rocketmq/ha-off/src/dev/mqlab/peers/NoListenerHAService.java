package dev.mqlab.peers;

import org.apache.rocketmq.store.ha.DefaultHAService;

/**
 * The HA service for mqlab's single-master RocketMQ peer. RocketMQ's default HA service opens
 * the master-slave replication listener (listenPort + 1) on every interface, and there is no
 * setting for its bind address; the peer has no slave, so this service never opens it.
 * Loaded through RocketMQ's own plug-in point (META-INF/service/org.apache.rocketmq.store.ha.HAService).
 * SYNC_MASTER would need the replication path: peers/rocketmq/start.sh runs ASYNC_MASTER.
 */
public class NoListenerHAService extends DefaultHAService {
    @Override
    public void start() {
        // No slave will ever connect: open no listener and start no replication threads.
    }

    @Override
    public void shutdown() {
        // Nothing was started.
    }
}
