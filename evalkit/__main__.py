import atexit
import gc

from evalkit.cli import main

# the process ends after main: the interpreter's last collections need not walk what is left (numba's ~100k
# objects cost ~0.2 s); a finalizer of an object in a cycle is not guaranteed to run at exit anyway
atexit.register(gc.freeze)
raise SystemExit(main())
