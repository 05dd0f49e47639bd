/* Placeholder so the pl_apps target has a source until engine/apps lands; removed then. */
int pl_apps__placeholder(void);
int pl_apps__placeholder(void) { return 0; }
