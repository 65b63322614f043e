#ifndef SEGMENTER_CRDKAFKA_SHIM_H
#define SEGMENTER_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* rd_kafka_producev is variadic (built from RD_KAFKA_V_* macros), which Swift cannot call.
 * This fixed-signature wrapper copies key and value (RD_KAFKA_MSG_F_COPY), so the caller's
 * buffers need only live for the call. On success librdkafka owns `headers` (may be NULL);
 * on failure the caller still owns them. `timestamp` 0 means "now". */
static inline rd_kafka_resp_err_t segmenter_produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt,
                                                    int32_t partition,
                                                    const void *key, size_t key_len,
                                                    const void *value, size_t value_len,
                                                    rd_kafka_headers_t *headers,
                                                    int64_t timestamp, void *opaque) {
    return rd_kafka_producev(rk,
                             RD_KAFKA_V_RKT(rkt),
                             RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, key_len),
                             RD_KAFKA_V_VALUE((void *)value, value_len),
                             RD_KAFKA_V_HEADERS(headers),
                             RD_KAFKA_V_TIMESTAMP(timestamp),
                             RD_KAFKA_V_OPAQUE(opaque),
                             RD_KAFKA_V_END);
}
#endif
