/* Placeholder so the pl_drift target has a source until engine/drift lands; removed then. */
int pl_drift__placeholder(void);
int pl_drift__placeholder(void) { return 0; }
