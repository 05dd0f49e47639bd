/* Placeholder so the pl_kube target has a source until engine/kube lands; removed then. */
int pl_kube__placeholder(void);
int pl_kube__placeholder(void) { return 0; }
