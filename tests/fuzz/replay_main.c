/* SPDX-License-Identifier: Apache-2.0
 *
 * replay_main.c - runs every file in the directories (or files) given on
 * the command line through LLVMFuzzerTestOneInput once, so that the saved
 * corpus and every crasher found by `make fuzz` are part of `make check`.
 *
 *   build/fuzz-replay-payload tests/fuzz/corpus/payload
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if(f == NULL){
		fprintf(stderr, "cannot open %s\n", path);
		return -1;
	}
	if(fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0){
		fclose(f);
		fprintf(stderr, "cannot size %s\n", path);
		return -1;
	}
	buf = malloc(len > 0 ? (size_t)len : 1);
	if(buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len){
		free(buf);
		fclose(f);
		fprintf(stderr, "cannot read %s\n", path);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int i, runs = 0, errors = 0;

	for(i = 1; i < argc; i++){
		struct stat st;
		if(stat(argv[i], &st) != 0){
			fprintf(stderr, "no such file or directory: %s\n", argv[i]);
			errors++;
			continue;
		}
		if(S_ISDIR(st.st_mode)){
			struct dirent **names = NULL;
			int n = scandir(argv[i], &names, NULL, alphasort), k;
			for(k = 0; k < n; k++){
				char path[4096];
				if(names[k]->d_name[0] != '.'){
					snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
					if(run_file(path) == 0) runs++;
					else errors++;
				}
				free(names[k]);
			}
			free(names);
		}else{
			if(run_file(argv[i]) == 0) runs++;
			else errors++;
		}
	}
	printf("%s: %d inputs replayed, %d unreadable\n", argv[0], runs, errors);
	return errors == 0 && runs > 0 ? 0 : 1;
}
