#include <cstdio>
int main() {
  std::puts("dive");
  return 0;
}
