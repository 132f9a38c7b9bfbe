int verdict_kernels_placeholder(void){return 0;}
