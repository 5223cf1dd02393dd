"""How policy callbacks run: awaitables on a fresh event loop, cyclic GC paused around bulk work."""
import asyncio
import inspect


class NoCycleCollection:
    """Cyclic GC paused while many objects are built at once: with it running, building the
    SDK's objects for a large stack costs time that grows faster than the stack (full
    collections keep rescanning everything already built). Reference counting still frees."""

    def __enter__(self):
        import gc
        self.gc = gc
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was:
            self.gc.enable()
        return False


def run_awaitable(result):
    if inspect.isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            task = asyncio.Task(result, loop=loop)
            return loop.run_until_complete(task)
        finally:
            loop.close()
    return result
