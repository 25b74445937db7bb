/* SPDX-License-Identifier: Apache-2.0
 *
 * queue.h - the bounded hand-off from the broker thread to one worker.
 *
 * Single producer (the broker thread), single consumer (the worker). A
 * ring of fixed slots: a message whose topic and payload fit in a slot is
 * copied there with no allocation; a larger one is copied to the heap,
 * charged against a byte budget shared by all queues (the overflow path).
 * A push never blocks and never waits for the worker: when the ring is full
 * or the budget spent it fails and the caller counts a drop. There is no
 * lock: a sleeping worker waits on a futex word, and a push that must wake
 * it makes one FUTEX_WAKE system call (Linux).
 */
#ifndef EA_QUEUE_H
#define EA_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of topic plus payload held inside a slot. */
#define EA_QUEUE_SLOT_INLINE 480

/* Wake-ups are batched: a consumer that has just drained a batch lingers
 * (a timed wait of EA_QUEUE_LINGER_MS) before it sleeps for long. A push
 * wakes a consumer in a long sleep at once, but one that lingers only when
 * EA_QUEUE_WAKE_BATCH messages wait: it will look by itself within
 * EA_QUEUE_LINGER_MS. Under load a worker so wakes a few hundred times a
 * second on its own timer and is never signalled; a message to an idle
 * broker is handed over at once. */
#define EA_QUEUE_WAKE_BATCH 256
#ifndef EA_QUEUE_LINGER_MS
#define EA_QUEUE_LINGER_MS 3
#endif

typedef enum ea_push_result {
	EA_PUSH_OK = 0,
	EA_PUSH_FULL,   /* every slot in use */
	EA_PUSH_BUDGET  /* too large for a slot and the shared byte budget is spent */
} ea_push_result;

/* The byte budget for heap-copied messages, shared by a pool's queues. */
typedef struct ea_queue_budget {
	_Atomic uint64_t used;
	uint64_t limit;
} ea_queue_budget;

struct ea_queue_slot;

typedef struct ea_queue {
	struct ea_queue_slot *slots; /* owned, `capacity` entries */
	uint32_t capacity;           /* power of two */
	_Atomic uint64_t head;       /* next slot to fill; written by the producer */
	_Atomic uint64_t tail;       /* next slot to drain; written by the consumer */
	_Atomic int sleeping;        /* the consumer is (about to be) waiting on `signal` */
	_Atomic int lingering;       /* ... and that wait is a short linger */
	_Atomic uint32_t signal;     /* futex word: set to 1 to wake the consumer */
	_Atomic bool stopping;
	_Atomic bool woken;          /* ea_queue_wake was called */
	ea_queue_budget *budget;     /* borrowed, shared */
	_Atomic uint64_t heap_pushes;/* messages that took the overflow path */
	_Atomic uint64_t wakes;      /* signals sent to a sleeping consumer */
} ea_queue;

/* A message as the consumer sees it; pointers valid until ea_queue_release. */
typedef struct ea_queue_msg {
	const char *topic;   /* NUL-terminated */
	size_t topic_len;
	const char *payload; /* not NUL-terminated */
	size_t payload_len;
	int64_t arrival_ms;
} ea_queue_msg;

/* Initialises a queue with at least `capacity` slots (rounded up to a power
 * of two). `budget` is borrowed and must outlive the queue. Returns 0, or
 * -1 on out of memory (the queue is then safe to destroy). */
int ea_queue_init(ea_queue *q, uint32_t capacity, ea_queue_budget *budget);

/* Frees the slots and any message still queued; accepts a half-built or
 * zeroed queue. */
void ea_queue_destroy(ea_queue *q);

/* Producer: copies topic and payload into the queue. Never blocks. */
ea_push_result ea_queue_push(ea_queue *q, const char *topic, size_t topic_len,
		const void *payload, size_t payload_len, int64_t arrival_ms);

/* Consumer: waits until messages are queued, the queue is stopping, or the
 * monotonic deadline (ns, 0 = none) passes. `linger`: this is the short
 * wait after a batch (pushes then do not signal; see above). Returns the
 * number of messages ready to read with ea_queue_peek. */
size_t ea_queue_wait(ea_queue *q, int64_t deadline_mono_ns, bool linger);

/* Consumer: the i-th ready message (i < the count ea_queue_wait returned). */
void ea_queue_peek(ea_queue *q, size_t i, ea_queue_msg *out);

/* Consumer: frees the first `count` ready messages and their slots. */
void ea_queue_release(ea_queue *q, size_t count);

/* Bytes of one slot. */
size_t ea_queue_slot_bytes(void);

/* Messages queued now (any thread; approximate). */
uint64_t ea_queue_depth(const ea_queue *q);

/* Wakes the consumer for good; ea_queue_wait then returns at once. */
void ea_queue_stop(ea_queue *q);

/* Wakes a sleeping consumer once (ea_queue_wait returns, possibly 0). */
void ea_queue_wake(ea_queue *q);

#endif
