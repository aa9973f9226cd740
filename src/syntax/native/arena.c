/*
 * tree-sitter's allocator, with a per-thread arena for trees that live only while their
 * facts are read.
 *
 * A parse allocates a few million small blocks (a subtree each) and freeing the tree
 * walks all of them again to free them one by one: on the 4 MB bench corpus, malloc and
 * free for tree-sitter and the walk that frees took a tenth of all instructions. While a
 * scope is active (from `adlint_arena_enter` to `adlint_arena_pause`: the parse itself),
 * new blocks are cut from 4 MiB chunks of this thread, freeing one does nothing, and
 * leaving the scope takes back everything allocated in it at once; the caller then need
 * not delete the tree at all (`src/syntax.rs`, `with_transient_parse`). Otherwise, and for
 * what does not fit (large blocks, more than MAX_CHUNKS chunks), these are malloc, realloc
 * and free. Only the parse allocates in the arena: whatever runs on the thread while the
 * tree is read (work another thread hands over, say) allocates as usual.
 *
 * A parse frees some blocks as it goes (discarded versions, stack nodes, arrays); keeping
 * them for reuse saved 2% of the arena on the bench corpus, which uses about 70 times its
 * source (8.5 MiB at most for a 120 KB file), so they are not kept.
 *
 * The contract: nothing allocated in a scope is used after `adlint_arena_leave`, and
 * scopes on a thread nest (a scope entered inside another is left first).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE ((size_t)4 << 20)
/* 256 MiB of blocks per thread; a parse that needs more takes the rest from malloc. */
#define MAX_CHUNKS 64
/* Chunks kept, for any thread, once no scope holds them; the others go back to the system
 * (and these too, at `adlint_arena_trim`). */
#define POOLED_CHUNKS 8
/* Blocks this large come from malloc (they would waste the end of a chunk). */
#define LARGE_BLOCK (CHUNK_SIZE / 8)
/* Each block starts with its size, for realloc. */
#define HEADER sizeof(size_t)

typedef struct {
  char *base[MAX_CHUNKS];
  uint32_t count;
  /* The chunk `cursor` is in; `cursor` is NULL when none is in use. */
  uint32_t current;
  char *cursor;
  char *limit;
  uint32_t depth;
  /* Whether new blocks come from the arena. */
  bool active;
  /* Blocks taken from malloc inside a scope. */
  uint64_t spills;
} Arena;

static _Thread_local Arena arena;

/* Chunks no thread holds. A thread holds chunks only while a scope is open, so none is
 * lost with a thread, and between the files of a parallel pass they go round here. */
static char *pool[POOLED_CHUNKS];
static uint32_t pooled;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

static char *take_chunk(void) {
  char *chunk = NULL;
  pthread_mutex_lock(&pool_lock);
  if (pooled > 0) chunk = pool[--pooled];
  pthread_mutex_unlock(&pool_lock);
  return chunk ? chunk : malloc(CHUNK_SIZE);
}

static void give_chunks(char **chunks, uint32_t count) {
  pthread_mutex_lock(&pool_lock);
  while (count > 0 && pooled < POOLED_CHUNKS) pool[pooled++] = chunks[--count];
  pthread_mutex_unlock(&pool_lock);
  while (count > 0) free(chunks[--count]);
}

/* Frees the chunks no scope holds: after a pass of parses, so that their pages do not stay
 * with the process for the rest of the run. */
void adlint_arena_trim(void) {
  pthread_mutex_lock(&pool_lock);
  while (pooled > 0) free(pool[--pooled]);
  pthread_mutex_unlock(&pool_lock);
}

static inline size_t rounded(size_t size) { return (size + 7) & ~(size_t)7; }

static inline bool in_arena(const void *p) {
  for (uint32_t i = 0; i < arena.count; i++) {
    if ((uintptr_t)p - (uintptr_t)arena.base[i] < CHUNK_SIZE) return true;
  }
  return false;
}

static void *checked(void *p, size_t size) {
  if (!p && size > 0) {
    fprintf(stderr, "tree-sitter failed to allocate %zu bytes\n", size);
    abort();
  }
  return p;
}

static void *arena_alloc(size_t size) {
  size_t need = HEADER + rounded(size);
  if (need > LARGE_BLOCK) {
    arena.spills++;
    return checked(malloc(size), size);
  }
  if (!arena.cursor || (size_t)(arena.limit - arena.cursor) < need) {
    uint32_t next = arena.cursor ? arena.current + 1 : 0;
    if (next == arena.count) {
      char *chunk = next < MAX_CHUNKS ? take_chunk() : NULL;
      if (!chunk) {
        arena.spills++;
        return checked(malloc(size), size);
      }
      arena.base[arena.count++] = chunk;
    }
    arena.current = next;
    arena.cursor = arena.base[next];
    arena.limit = arena.cursor + CHUNK_SIZE;
  }
  char *block = arena.cursor;
  arena.cursor += need;
  *(size_t *)block = size;
  return block + HEADER;
}

void *adlint_ts_malloc(size_t size) {
  if (arena.active) return arena_alloc(size);
  return checked(malloc(size), size);
}

void *adlint_ts_calloc(size_t count, size_t size) {
  if (!arena.active) return checked(calloc(count, size), count * size);
  if (size && count > SIZE_MAX / size) return checked(NULL, SIZE_MAX);
  void *p = arena_alloc(count * size);
  memset(p, 0, count * size);
  return p;
}

void *adlint_ts_realloc(void *p, size_t size) {
  if (!p) return adlint_ts_malloc(size);
  if (!in_arena(p)) return checked(realloc(p, size), size);
  char *block = p;
  size_t old = *(size_t *)(block - HEADER);
  if (size <= old) return p;
  /* The last block of the current chunk grows where it is. */
  if (block + rounded(old) == arena.cursor && block >= arena.base[arena.current] &&
      (size_t)(arena.limit - block) >= rounded(size)) {
    arena.cursor = block + rounded(size);
    *(size_t *)(block - HEADER) = size;
    return p;
  }
  void *moved = arena.active ? arena_alloc(size) : checked(malloc(size), size);
  memcpy(moved, p, old);
  return moved;
}

void adlint_ts_free(void *p) {
  if (!p || in_arena(p)) return;
  free(p);
}

typedef struct {
  uint32_t current;
  char *cursor;
  uint64_t spills;
  bool active;
} AdlintArenaMark;

/* Opens a scope, active. */
AdlintArenaMark adlint_arena_enter(void) {
  AdlintArenaMark mark = {arena.current, arena.cursor, arena.spills, arena.active};
  arena.depth++;
  arena.active = true;
  return mark;
}

/* New blocks come from malloc again; those of the scope stay until it is left. */
void adlint_arena_pause(void) { arena.active = false; }

/* How many blocks this thread took from malloc inside scopes. */
uint64_t adlint_arena_spills(void) { return arena.spills; }

/* Whether a block of the scope that `mark` opened came from malloc (the tree must then
 * be deleted, to free those). */
bool adlint_arena_spilled_since(AdlintArenaMark mark) { return arena.spills != mark.spills; }

void adlint_arena_leave(AdlintArenaMark mark) {
  arena.depth--;
  arena.active = mark.active;
  if (arena.depth > 0) {
    arena.current = mark.current;
    arena.cursor = mark.cursor;
    arena.limit = mark.cursor ? arena.base[mark.current] + CHUNK_SIZE : NULL;
    return;
  }
  arena.cursor = arena.limit = NULL;
  arena.current = 0;
  give_chunks(arena.base, arena.count);
  arena.count = 0;
}
