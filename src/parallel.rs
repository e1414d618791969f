//! Data parallelism on scoped threads: a slice cut into contiguous parts, one thread each.

use std::num::NonZeroUsize;

/// Room for the deep but bounded recursion of the parser, checker and emitter on user input, for
/// every thread that runs them.
pub const STACK_BYTES: usize = 256 * 1024 * 1024;

/// How many threads are worth starting: the parallelism the machine offers this process.
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// `work` applied to every item, on up to `threads` threads, results in the items' order. The
/// calling thread takes the first part; a part whose thread cannot start runs there too, and a
/// panic in any part is resumed on the calling thread.
pub fn map<T: Sync, R: Send>(items: &[T], threads: usize, work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(work).collect();
    }
    let part_len = items.len().div_ceil(threads);
    let work = &work;
    std::thread::scope(|scope| {
        let mut parts = items.chunks(part_len);
        let first = parts.next().unwrap_or_default();
        let others: Vec<_> = parts
            .map(|part| {
                let thread = std::thread::Builder::new()
                    .stack_size(STACK_BYTES)
                    .spawn_scoped(scope, move || part.iter().map(work).collect::<Vec<R>>());
                (part, thread)
            })
            .collect();
        let mut results: Vec<R> = first.iter().map(work).collect();
        for (part, thread) in others {
            match thread {
                Ok(handle) => match handle.join() {
                    Ok(done) => results.extend(done),
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(_) => results.extend(part.iter().map(work)),
            }
        }
        results
    })
}

#[cfg(test)]
mod tests {
    use super::map;

    #[test]
    fn results_keep_the_order_of_the_items_whatever_the_thread_count() {
        let items: Vec<u32> = (0..1000).collect();
        let expected: Vec<u32> = items.iter().map(|i| i * 3).collect();
        for threads in [0, 1, 2, 3, 7, 1000, 5000] {
            assert_eq!(map(&items, threads, |i| i * 3), expected, "{threads} threads");
        }
        assert!(map(&[] as &[u32], 4, |i| *i).is_empty());
    }
}
