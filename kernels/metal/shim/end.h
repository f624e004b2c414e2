// end.h: the Metal keywords stop being macros for the runner's own code.
#undef kernel
#undef device
#undef thread
#undef constant
#undef threadgroup
