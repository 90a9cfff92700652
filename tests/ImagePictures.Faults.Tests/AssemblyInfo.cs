// The fault tests measure timings and memory of child processes on a 2-core machine: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
