int verdict_kernels_placeholder(void);
