/* `run.sh compare [REV]`: the AVX-512 kernel of kernels_x86.c at git REV (HEAD unless
   told), its symbols renamed, against the working tree's, on the MLP shapes' products,
   one thread, interleaved run by run; best and mean GFLOP/s of 200 rounds. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "CBackpropKernels.h"
#include "kernels_x86.h"
/* kernels_x86.c at REV, compiled with -Dgemm_avx512=old_gemm_avx512. */
void old_gemm_avx512(const double *a, long a_row, long a_col, const double *b, long ldb, double *c, long ldc, long m, long k, long n, int accumulate);
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
int main(){
  struct {const char*name;long m,k,n,tr;} sh[]={
   {"wide fwd 128x784.784x1024",128,784,1024,0},{"wide gradW1 (128x784)^T.128x1024",784,128,1024,1},
   {"wide gradW2 (128x1024)^T.128x10",1024,128,10,1},
   {"mnist fwd 64x784.784x128",64,784,128,0},{"mnist gradW1",784,64,128,1},{"mnist gradW2",128,64,10,1}};
  for(size_t s=0;s<sizeof sh/sizeof*sh;s++){
    long m=sh[s].m,k=sh[s].k,n=sh[s].n,ld=n;
    double*a=malloc(8*m*k),*b=malloc(8*k*ld),*c=malloc(8*m*ld);
    for(long i=0;i<m*k;i++)a[i]=(i%17)*0.01; for(long i=0;i<k*ld;i++)b[i]=(i%13)*0.02;
    long ar=sh[s].tr?1:k, ac=sh[s].tr?m:1;
    double fl=2.0*m*k*n; long reps=(long)(2e7/fl)+1; double best[2]={1e9,1e9}, sum[2]={0,0};
    for(int r=0;r<200;r++) for(int v=0;v<2;v++){double t0=now();for(long x=0;x<reps;x++)(v?gemm_avx512:old_gemm_avx512)(a,ar,ac,b,ld,c,ld,m,k,n,0);double t=(now()-t0)/reps;sum[v]+=t;if(t<best[v])best[v]=t;}
    printf("%-36s old %6.1f GF/s (mean %6.1f)  new %6.1f GF/s (mean %6.1f)\n",sh[s].name,fl/best[0]*1e-9,fl/(sum[0]/200)*1e-9,fl/best[1]*1e-9,fl/(sum[1]/200)*1e-9);
    free(a);free(b);free(c);}
}
