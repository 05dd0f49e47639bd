/* Placeholder so the pl_sandbox target has a source until engine/sandbox lands; removed then. */
int sb__placeholder(void);
int sb__placeholder(void) { return 0; }
