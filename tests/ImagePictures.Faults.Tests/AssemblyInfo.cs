// The fault tests run child services, outages and kill -9 on a 2-core machine: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
