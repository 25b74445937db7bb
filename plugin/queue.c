/* SPDX-License-Identifier: Apache-2.0
 *
 * queue.c - single-producer single-consumer ring of fixed slots with a
 * heap overflow path (see queue.h).
 *
 * Memory ordering: the producer fills a slot, then publishes it with a
 * store of `head`; the consumer reads `head` with acquire, uses the slots,
 * then hands them back with a release store of `tail`. The sleep
 * hand-shake uses sequentially consistent accesses of `sleeping`,
 * `signal` and `head`: the consumer clears `signal`, then checks `head`,
 * then waits while `signal` is still 0; the producer stores `head`, then,
 * if the consumer sleeps, sets `signal` and wakes it. Either the consumer
 * sees the new head or its wait returns at once because `signal` is set.
 */
#include "queue.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct ea_queue_slot {
	uint32_t topic_len;
	uint32_t payload_len;
	int64_t arrival_ms;
	char *heap; /* NULL: data is inline; else owned, topic then payload */
	char data[EA_QUEUE_SLOT_INLINE];
};

/* Waits while *word == 0, until woken or the absolute monotonic deadline
 * (NULL: none). Returns 0, or -1 with errno (ETIMEDOUT, EAGAIN, EINTR). */
static int futex_wait(_Atomic uint32_t *word, const struct timespec *deadline)
{
	return (int)syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0,
			deadline, NULL, FUTEX_BITSET_MATCH_ANY);
}

static void futex_wake(_Atomic uint32_t *word, int count)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, NULL, NULL, 0);
}

int ea_queue_init(ea_queue *q, uint32_t capacity, ea_queue_budget *budget)
{
	uint32_t cap = 1;

	memset(q, 0, sizeof(*q));
	while(cap < capacity && cap < (UINT32_C(1) << 30)) cap <<= 1;
	q->budget = budget;
	q->slots = calloc(cap, sizeof(*q->slots));
	if(q->slots == NULL) return -1;
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
			&& (!atomic_load_explicit(&q->lingering, memory_order_seq_cst) || head + 1 - tail >= EA_QUEUE_WAKE_BATCH)){
		atomic_store_explicit(&q->wakes, atomic_load_explicit(&q->wakes, memory_order_relaxed) + 1,
				memory_order_relaxed);
		atomic_store_explicit(&q->signal, 1, memory_order_seq_cst);
		futex_wake(&q->signal, 1);
	}
	return EA_PUSH_OK;
}

static size_t ready(ea_queue *q)
{
	return (size_t)(atomic_load_explicit(&q->head, memory_order_acquire)
			- atomic_load_explicit(&q->tail, memory_order_relaxed));
}

size_t ea_queue_wait(ea_queue *q, int64_t deadline_mono_ns, bool linger)
{
	struct timespec ts, *deadline = NULL;
	size_t n = ready(q);

	if(n > 0 || atomic_load(&q->stopping)) return n;
	if(deadline_mono_ns > 0){
		ts.tv_sec = (time_t)(deadline_mono_ns / 1000000000);
		ts.tv_nsec = (long)(deadline_mono_ns % 1000000000);
		deadline = &ts;
	}
	atomic_store_explicit(&q->lingering, linger ? 1 : 0, memory_order_seq_cst);
	atomic_store_explicit(&q->sleeping, 1, memory_order_seq_cst);
	for(;;){
		atomic_store_explicit(&q->signal, 0, memory_order_seq_cst);
		n = ready(q);
		if(n > 0 || atomic_load(&q->stopping) || atomic_exchange(&q->woken, false)) break;
		if(futex_wait(&q->signal, deadline) != 0 && errno == ETIMEDOUT){
			n = ready(q);
			break;
		}
	}
	atomic_store_explicit(&q->sleeping, 0, memory_order_seq_cst);
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

size_t ea_queue_slot_bytes(void)
{
	return sizeof(struct ea_queue_slot);
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
	atomic_store(&q->woken, true);
	atomic_store(&q->signal, 1);
	futex_wake(&q->signal, INT_MAX);
}

void ea_queue_stop(ea_queue *q)
{
	atomic_store(&q->stopping, true);
	atomic_store(&q->signal, 1);
	futex_wake(&q->signal, INT_MAX);
}
