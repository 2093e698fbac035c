package dev.mqlab.peers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * A small producer / consumer benchmark over RocketMQ's own Java client (rocketmq-client from
 * Maven Central). RocketMQ's benchmark tool ships in rocketmq-example, which is not published to
 * Maven Central, so mqlab runs this instead: the same client, sync sends from N threads, a lite
 * pull consumer from the first offset. Prints one summary line mqlab's bench/peers.ts parses.
 *
 *   produce NAMESRV TOPIC COUNT SIZE THREADS
 *   consume NAMESRV TOPIC GROUP COUNT TIMEOUT_MS
 */
public final class RocketBench {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) throw new IllegalArgumentException("produce|consume ...");
        if (args[0].equals("produce")) produce(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
        else if (args[0].equals("consume")) consume(args[1], args[2], args[3], Integer.parseInt(args[4]), Long.parseLong(args[5]));
        else throw new IllegalArgumentException("unknown mode " + args[0]);
        System.exit(0);
    }

    private static void produce(String namesrv, String topic, int count, int size, int threads) throws Exception {
        DefaultMQProducer producer = new DefaultMQProducer("mqlab_bench_pg");
        producer.setNamesrvAddr(namesrv);
        producer.setSendMsgTimeout(10_000);
        producer.start();
        byte[] body = new byte[size];
        Arrays.fill(body, (byte) 'x');
        // Warm-up: the route lookup and first connection are not part of the measurement.
        producer.send(new Message(topic, "warm", body));
        long[] latencies = new long[count];
        AtomicLong next = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                for (long i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                    long t0 = System.nanoTime();
                    try {
                        SendResult r = producer.send(new Message(topic, "bench", body));
                        if (r.getSendStatus() != SendStatus.SEND_OK) failed.incrementAndGet();
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                    latencies[(int) i] = (System.nanoTime() - t0) / 1000;
                }
            });
            w.start();
            workers.add(w);
        }
        for (Thread w : workers) w.join();
        long elapsedNs = System.nanoTime() - start;
        producer.shutdown();
        Arrays.sort(latencies);
        System.out.printf("RESULT produce count=%d failed=%d elapsedMs=%.1f msgPerSec=%.1f p50Us=%d p99Us=%d p999Us=%d maxUs=%d%n",
            count, failed.get(), elapsedNs / 1e6, count / (elapsedNs / 1e9), latencies[count / 2], latencies[(int) (count * 0.99)],
            latencies[(int) Math.min(count - 1, count * 0.999)], latencies[count - 1]);
    }

    private static void consume(String namesrv, String topic, String group, int count, long timeoutMs) throws Exception {
        DefaultLitePullConsumer consumer = new DefaultLitePullConsumer(group);
        consumer.setNamesrvAddr(namesrv);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.setPullBatchSize(32);
        consumer.subscribe(topic, "bench");
        consumer.start();
        long got = 0;
        long first = 0;
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (got < count && System.currentTimeMillis() < deadline) {
            List<MessageExt> batch = consumer.poll(500);
            if (!batch.isEmpty() && first == 0) first = System.nanoTime();
            got += batch.size();
        }
        long elapsedNs = first == 0 ? 1 : System.nanoTime() - first;
        consumer.shutdown();
        System.out.printf("RESULT consume count=%d elapsedMs=%.1f msgPerSec=%.1f%n", got, elapsedNs / 1e6, got / (elapsedNs / 1e9));
    }
}
