/* SPDX-License-Identifier: Apache-2.0
 *
 * queue.c - single-producer single-consumer ring of fixed slots with a
 * heap overflow path (see queue.h).
 *
 * Memory ordering: the producer fills a slot, then publishes it with a
 * release store of `head`; the consumer reads `head` with acquire, uses the
 * slots, then hands them back with a release store of `tail`. The sleep
 * hand-shake uses sequentially consistent accesses of `sleeping` and
 * `head` so that a push either sees the sleeper or the sleeper sees the
 * push; the mutex is taken only to signal a sleeper.
 */
#include "queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ea_queue_slot {
	uint32_t topic_len;
	uint32_t payload_len;
	int64_t arrival_ms;
	char *heap; /* NULL: data is inline; else owned, topic then payload */
	char data[EA_QUEUE_SLOT_INLINE];
};

int ea_queue_init(ea_queue *q, uint32_t capacity, ea_queue_budget *budget)
{
	uint32_t cap = 1;

	memset(q, 0, sizeof(*q));
	while(cap < capacity && cap < (UINT32_C(1) << 30)) cap <<= 1;
	q->budget = budget;
	if(pthread_mutex_init(&q->lock, NULL) != 0) return -1;
	{
		pthread_condattr_t attr;
		int rc;
		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* deadlines are monotonic */
		rc = pthread_cond_init(&q->wake, &attr);
		pthread_condattr_destroy(&attr);
		if(rc != 0){
			pthread_mutex_destroy(&q->lock);
			return -1;
		}
	}
	q->slots = calloc(cap, sizeof(*q->slots));
	if(q->slots == NULL){
		pthread_cond_destroy(&q->wake);
		pthread_mutex_destroy(&q->lock);
		return -1;
	}
	q->capacity = cap;
	return 0;
}

void ea_queue_destroy(ea_queue *q)
{
	uint64_t i, head, tail;

	if(q->slots == NULL) return;
	head = atomic_load(&q->head);
	tail = atomic_load(&q->tail);
	for(i = tail; i < head; i++){
		struct ea_queue_slot *s = &q->slots[i & (q->capacity - 1)];
		if(s->heap != NULL){
			atomic_fetch_sub(&q->budget->used, (uint64_t)s->topic_len + 1 + s->payload_len);
			free(s->heap);
		}
	}
	free(q->slots);
	q->slots = NULL;
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
}

ea_push_result ea_queue_push(ea_queue *q, const char *topic, size_t topic_len,
		const void *payload, size_t payload_len, int64_t arrival_ms)
{
	uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	struct ea_queue_slot *s;
	size_t need = topic_len + 1 + payload_len;
	char *dst;

	if(head - tail >= q->capacity) return EA_PUSH_FULL;
	if(topic_len > UINT32_MAX || payload_len > UINT32_MAX) return EA_PUSH_BUDGET;
	s = &q->slots[head & (q->capacity - 1)];
	if(need <= EA_QUEUE_SLOT_INLINE){
		s->heap = NULL;
		dst = s->data;
	}else{
		uint64_t used = atomic_fetch_add_explicit(&q->budget->used, need, memory_order_relaxed);
		if(used + need > q->budget->limit){
			atomic_fetch_sub_explicit(&q->budget->used, need, memory_order_relaxed);
			return EA_PUSH_BUDGET;
		}
		s->heap = malloc(need);
		if(s->heap == NULL){
			atomic_fetch_sub_explicit(&q->budget->used, need, memory_order_relaxed);
			return EA_PUSH_BUDGET;
		}
		dst = s->heap;
		atomic_store_explicit(&q->heap_pushes,
				atomic_load_explicit(&q->heap_pushes, memory_order_relaxed) + 1, memory_order_relaxed);
	}
	memcpy(dst, topic, topic_len);
	dst[topic_len] = '\0';
	if(payload_len > 0) memcpy(dst + topic_len + 1, payload, payload_len);
	s->topic_len = (uint32_t)topic_len;
	s->payload_len = (uint32_t)payload_len;
	s->arrival_ms = arrival_ms;
	atomic_store_explicit(&q->head, head + 1, memory_order_seq_cst);

	if(atomic_load_explicit(&q->sleeping, memory_order_seq_cst)
			&& (head + 1 - tail >= EA_QUEUE_WAKE_BATCH || arrival_ms - q->last_wake_ms >= EA_QUEUE_WAKE_MS
				|| arrival_ms < q->last_wake_ms)){
		q->last_wake_ms = arrival_ms;
		atomic_store_explicit(&q->wakes, atomic_load_explicit(&q->wakes, memory_order_relaxed) + 1,
				memory_order_relaxed);
		pthread_mutex_lock(&q->lock);
		pthread_cond_signal(&q->wake);
		pthread_mutex_unlock(&q->lock);
	}
	return EA_PUSH_OK;
}

static size_t ready(ea_queue *q)
{
	return (size_t)(atomic_load_explicit(&q->head, memory_order_acquire)
			- atomic_load_explicit(&q->tail, memory_order_relaxed));
}

size_t ea_queue_wait(ea_queue *q, int64_t deadline_mono_ns)
{
	size_t n = ready(q);

	if(n > 0 || atomic_load(&q->stopping)) return n;
	pthread_mutex_lock(&q->lock);
	atomic_store_explicit(&q->sleeping, 1, memory_order_seq_cst);
	for(;;){
		n = ready(q);
		if(n > 0 || atomic_load(&q->stopping)) break;
		if(atomic_exchange(&q->woken, false)) break;
		if(deadline_mono_ns > 0){
			struct timespec ts;
			int rc;
			ts.tv_sec = (time_t)(deadline_mono_ns / 1000000000);
			ts.tv_nsec = (long)(deadline_mono_ns % 1000000000);
			rc = pthread_cond_timedwait(&q->wake, &q->lock, &ts);
			if(rc == ETIMEDOUT){
				n = ready(q);
				break;
			}
		}else{
			pthread_cond_wait(&q->wake, &q->lock);
		}
	}
	atomic_store_explicit(&q->sleeping, 0, memory_order_seq_cst);
	pthread_mutex_unlock(&q->lock);
	return n;
}

void ea_queue_peek(ea_queue *q, size_t i, ea_queue_msg *out)
{
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	const struct ea_queue_slot *s = &q->slots[(tail + i) & (q->capacity - 1)];
	const char *data = s->heap != NULL ? s->heap : s->data;

	out->topic = data;
	out->topic_len = s->topic_len;
	out->payload = data + s->topic_len + 1;
	out->payload_len = s->payload_len;
	out->arrival_ms = s->arrival_ms;
}

void ea_queue_release(ea_queue *q, size_t count)
{
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	size_t i;

	for(i = 0; i < count; i++){
		struct ea_queue_slot *s = &q->slots[(tail + i) & (q->capacity - 1)];
		if(s->heap != NULL){
			atomic_fetch_sub_explicit(&q->budget->used, (uint64_t)s->topic_len + 1 + s->payload_len,
					memory_order_relaxed);
			free(s->heap);
			s->heap = NULL;
		}
	}
	atomic_store_explicit(&q->tail, tail + count, memory_order_release);
}

uint64_t ea_queue_depth(const ea_queue *q)
{
	/* tail first: it only grows towards head, so the difference never wraps */
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	return head >= tail ? head - tail : 0;
}

void ea_queue_wake(ea_queue *q)
{
	pthread_mutex_lock(&q->lock);
	atomic_store(&q->woken, true);
	pthread_cond_broadcast(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

void ea_queue_stop(ea_queue *q)
{
	pthread_mutex_lock(&q->lock);
	atomic_store(&q->stopping, true);
	pthread_cond_broadcast(&q->wake);
	pthread_mutex_unlock(&q->lock);
}
