//! Data parallelism on scoped threads: a slice cut into contiguous ranges, one thread each.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

/// Room for the deep but bounded recursion of the parser, checker and emitter on user input, more
/// than a default stack: the library's threads get this much, and a caller runs `check` and
/// `build` on a thread of this size too, as the `rwfc` command does.
pub const STACK_BYTES: usize = 256 * 1024 * 1024;

/// How many threads are worth starting: the parallelism the machine offers this process. Asked
/// once: on Linux the answer reads the cgroup's CPU quota from files.
pub fn available_threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// `work` of each of at most `threads` contiguous ranges of `items`, in order, one thread per
/// range. The calling thread takes the first range; a range whose thread cannot start runs there
/// too, and a panic in any range is resumed on the calling thread.
pub fn map_ranges<T: Sync, R: Send>(items: &[T], threads: usize, work: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return vec![work(items)];
    }
    let size = items.len().div_ceil(threads);
    let (first, rest) = items.split_at(size);
    let work = &work;
    std::thread::scope(|scope| {
        let spawned: Vec<_> = rest
            .chunks(size)
            .map(|range| {
                std::thread::Builder::new()
                    .stack_size(STACK_BYTES)
                    .spawn_scoped(scope, move || work(range))
                    .map_err(|_| range)
            })
            .collect();
        let mut results = vec![work(first)];
        for thread in spawned {
            results.push(match thread {
                Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(range) => work(range),
            });
        }
        results
    })
}

/// `work` of every item, in the items' order, on up to `threads` threads.
pub fn map<T: Sync, R: Send>(items: &[T], threads: usize, work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_ranges(items, threads, |range| range.iter().map(&work).collect::<Vec<R>>())
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{map, map_ranges};

    #[test]
    fn results_keep_the_order_of_the_items_whatever_the_thread_count() {
        let items: Vec<u32> = (0..1000).collect();
        let expected: Vec<u32> = items.iter().map(|i| i * 3).collect();
        for threads in [0, 1, 2, 3, 7, 1000, 5000] {
            assert_eq!(map(&items, threads, |i| i * 3), expected, "{threads} threads");
            let ranges = map_ranges(&items, threads, <[u32]>::to_vec);
            assert!(ranges.len() <= threads.max(1), "{threads} threads");
            assert_eq!(ranges.concat(), items, "{threads} threads");
        }
        assert!(map(&[] as &[u32], 4, |i| *i).is_empty());
    }
}
